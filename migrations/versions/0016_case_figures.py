"""Stored case figures and dated obligations (lists and the work queue read them)

Revision ID: 0016_case_figures
Revises: 0015_write_paths
Create Date: 2026-12-07 23:40:00

The tables start empty: the worker's periodic refresh (or ``flask cases refresh-figures``)
computes every case's figures after the upgrade.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_case_figures'
down_revision = '0015_write_paths'
branch_labels = None
depends_on = None

STAGES = ('reconciliation', 'notice', 'warning', 'demand_letter', 'prosecution')


def upgrade():
    op.create_table('case_figures',
    sa.Column('case_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('computed_on', sa.Date(), nullable=False),
    sa.Column('stale', sa.Boolean(), nullable=False),
    sa.Column('basis', sa.String(length=16), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('outstanding', sa.BigInteger(), nullable=False),
    sa.Column('interest', sa.BigInteger(), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('next_due', sa.Date(), nullable=True),
    sa.Column('next_text', sa.String(length=300), nullable=True),
    sa.Column('next_reason', sa.String(length=20), nullable=True),
    sa.Column('limitation_deadline', sa.Date(), nullable=True),
    sa.Column('readiness_stage', sa.Enum(*STAGES, name='stage', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('readiness_blockers', sa.Integer(), nullable=False),
    sa.Column('readiness_warnings', sa.Integer(), nullable=False),
    sa.Column('readiness_title', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_case_figures_case_id_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_case_figures'))
    )
    with op.batch_alter_table('case_figures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_figures_stale'), ['stale'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_figures_outstanding'), ['outstanding'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_figures_next_due'), ['next_due'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_figures_limitation_deadline'), ['limitation_deadline'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_figures_readiness_blockers'), ['readiness_blockers'], unique=False)

    op.create_table('case_deadline',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('open', sa.Boolean(), nullable=False),
    sa.Column('due', sa.Date(), nullable=False),
    sa.Column('label', sa.String(length=300), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=True),
    sa.Column('since', sa.Date(), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=True),
    sa.Column('paid', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_case_deadline_case_id_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_deadline'))
    )
    with op.batch_alter_table('case_deadline', schema=None) as batch_op:
        batch_op.create_index('ix_case_deadline_case_kind', ['case_id', 'kind'], unique=False)
        batch_op.create_index('ix_case_deadline_kind_due', ['kind', 'open', 'due', 'case_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('case_deadline', schema=None) as batch_op:
        batch_op.drop_index('ix_case_deadline_kind_due')
        batch_op.drop_index('ix_case_deadline_case_kind')
    op.drop_table('case_deadline')
    with op.batch_alter_table('case_figures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_figures_readiness_blockers'))
        batch_op.drop_index(batch_op.f('ix_case_figures_limitation_deadline'))
        batch_op.drop_index(batch_op.f('ix_case_figures_next_due'))
        batch_op.drop_index(batch_op.f('ix_case_figures_outstanding'))
        batch_op.drop_index(batch_op.f('ix_case_figures_stale'))
    op.drop_table('case_figures')
