"""A document version keeps legal's override of a prosecution blocker (rule, reason, who, when)

Revision ID: 0009_gate_override
Revises: 0008_bundle_review
Create Date: 2026-12-07 11:40:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0009_gate_override"
down_revision = "0008_bundle_review"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.add_column(sa.Column("override", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_column("override")
