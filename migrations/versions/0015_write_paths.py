"""Write paths: case reference sequences per year, case-insensitive invoice number index

Revision ID: 0015_write_paths
Revises: 0014_case_version
Create Date: 2026-12-07 23:05:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = '0015_write_paths'
down_revision = '0014_case_version'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
