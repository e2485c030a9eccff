"""Case version for optimistic locking of stage and status moves

Revision ID: 0014_case_version
Revises: 0013_job_leases
Create Date: 2026-12-07 17:08:16.650423

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_case_version'
down_revision = '0013_job_leases'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))


def downgrade():
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_column('version')
