"""Per rate kind, the day through which an admin confirmed the rate table complete

Revision ID: 0010_rate_confirmations
Revises: 0009_court_filings
Create Date: 2026-12-07 14:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0010_rate_confirmations"
down_revision = "0009_court_filings"
branch_labels = None
depends_on = None


def upgrade():
    # No row is made here: until an admin confirms a kind (or loads the shipped table, which
    # carries its own confirmations) figures that need that kind's rates stay drafts.
    op.create_table(
        "rate_confirmation",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("confirmed_through", sa.Date(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["confirmed_by_id"], ["user.id"], name=op.f("fk_rate_confirmation_confirmed_by_id_user")
        ),
        sa.PrimaryKeyConstraint("kind", name=op.f("pk_rate_confirmation")),
    )


def downgrade():
    op.drop_table("rate_confirmation")
