"""What counsel need in the documents: parties' details, the agreement, the firm's letter register

Revision ID: 0011_counsel_details
Revises: 0010_rate_confirmations
Create Date: 2026-12-07 13:49:14.698430

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_counsel_details'
down_revision = '0010_rate_confirmations'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('law_firm',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('letter_format', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_law_firm')),
    sa.UniqueConstraint('name', name=op.f('uq_law_firm_name'))
    )
    op.create_table('law_firm_sequence',
    sa.Column('firm_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['firm_id'], ['law_firm.id'], name=op.f('fk_law_firm_sequence_firm_id_law_firm')),
    sa.PrimaryKeyConstraint('firm_id', 'year', name=op.f('pk_law_firm_sequence'))
    )
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agreement_form', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('agreement_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('agreement_parties', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('agreement_terms', sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column('fees_clause', sa.Boolean(), nullable=False, server_default=sa.false())
        )

    with op.batch_alter_table('creditor_entity', schema=None) as batch_op:
        batch_op.add_column(sa.Column('incorporation', sa.String(length=200), nullable=True))

    with op.batch_alter_table('debtor', schema=None) as batch_op:
        batch_op.add_column(sa.Column('legal_representative', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('title', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('surname', sa.String(length=100), nullable=True))

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('attorney_code', sa.String(length=32), nullable=True))



def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('attorney_code')
        batch_op.drop_column('phone')

    with op.batch_alter_table('debtor', schema=None) as batch_op:
        batch_op.drop_column('surname')
        batch_op.drop_column('title')
        batch_op.drop_column('legal_representative')

    with op.batch_alter_table('creditor_entity', schema=None) as batch_op:
        batch_op.drop_column('incorporation')

    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_column('fees_clause')
        batch_op.drop_column('agreement_terms')
        batch_op.drop_column('agreement_parties')
        batch_op.drop_column('agreement_date')
        batch_op.drop_column('agreement_form')

    op.drop_table('law_firm_sequence')
    op.drop_table('law_firm')
