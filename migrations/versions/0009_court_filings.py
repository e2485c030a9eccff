"""A document version keeps the facts it asserts (each with its record) and legal's override of a prosecution blocker

Revision ID: 0009_court_filings
Revises: 0008_bundle_review
Create Date: 2026-12-07 11:40:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0009_court_filings"
down_revision = "0008_bundle_review"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.add_column(sa.Column("override", sa.JSON(), nullable=True))
        # Versions made before this revision assert nothing recorded: an empty list.
        batch_op.add_column(
            sa.Column("facts", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )


def downgrade():
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_column("facts")
        batch_op.drop_column("override")
