"""Statutory forms: official PDFs a letter is issued with (PAP-Debt Annex 1), versioned

Revision ID: 0012_statutory_forms
Revises: 0011_counsel_details
Create Date: 2026-12-07 14:14:54.257887

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_statutory_forms'
down_revision = '0011_counsel_details'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('statutory_form',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('edition', sa.String(length=300), nullable=False),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user.id'], name=op.f('fk_statutory_form_uploaded_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statutory_form')),
    sa.UniqueConstraint('kind', 'version', name=op.f('uq_statutory_form_kind'))
    )
    with op.batch_alter_table('statutory_form', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statutory_form_kind'), ['kind'], unique=False)



def downgrade():
    with op.batch_alter_table('statutory_form', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statutory_form_kind'))

    op.drop_table('statutory_form')
