"""Stored aging per debtor, creditor entity and currency (the aging report pages through it)

Revision ID: 0017_debtor_aging
Revises: 0016_case_figures
Create Date: 2026-12-08 00:15:00

The table starts empty: until the worker's refresh stores the day's aging, the report computes it
from the ledger.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017_debtor_aging'
down_revision = '0016_case_figures'
branch_labels = None
depends_on = None

BUCKETS = ('current', 'd1_30', 'd31_60', 'd61_90', 'd91_180', 'd181_365', 'over_365')


def upgrade():
    op.create_table('debtor_aging',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('debtor_id', sa.Integer(), nullable=False),
    sa.Column('creditor_id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('computed_on', sa.Date(), nullable=False),
    *(sa.Column(key, sa.BigInteger(), nullable=False) for key in BUCKETS),
    sa.Column('open_invoices', sa.Integer(), nullable=False),
    sa.Column('oldest_overdue', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['creditor_id'], ['creditor_entity.id'], name=op.f('fk_debtor_aging_creditor_id_creditor_entity')),
    sa.ForeignKeyConstraint(['debtor_id'], ['debtor.id'], name=op.f('fk_debtor_aging_debtor_id_debtor'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_debtor_aging')),
    sa.UniqueConstraint('debtor_id', 'creditor_id', 'currency', name='uq_debtor_aging_key')
    )
    with op.batch_alter_table('debtor_aging', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_debtor_aging_computed_on'), ['computed_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_debtor_aging_creditor_id'), ['creditor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_debtor_aging_debtor_id'), ['debtor_id'], unique=False)


def downgrade():
    with op.batch_alter_table('debtor_aging', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_debtor_aging_debtor_id'))
        batch_op.drop_index(batch_op.f('ix_debtor_aging_creditor_id'))
        batch_op.drop_index(batch_op.f('ix_debtor_aging_computed_on'))
    op.drop_table('debtor_aging')
