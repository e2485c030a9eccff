"""Case route, preservation events

Revision ID: 0004_route_preservation
Revises: 0003_evidence
Create Date: 2026-11-23 17:33:17.809002

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_route_preservation'
down_revision = '0003_evidence'
branch_labels = None
depends_on = None

# Non-native enums are CHECK constraints, which autogenerate neither compares nor alters: the
# lists are written out here.
EVENT_TYPES_BEFORE = (
    "contact", "promise", "dispute", "dispute_resolved", "reconciliation_sent",
    "reconciliation_reply", "dispatch", "acknowledgment", "asset", "note",
)
EVENT_TYPES = EVENT_TYPES_BEFORE + ("preservation",)
ROUTES = ("litigation", "payment_order", "arbitration")


def _in(column, values):
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def upgrade():
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('route', sa.String(length=32), nullable=True))
        batch_op.create_check_constraint('route', _in('route', ROUTES))
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_case_event_event_type'), type_='check')
        batch_op.create_check_constraint('event_type', _in('type', EVENT_TYPES))


def downgrade():
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_case_event_event_type'), type_='check')
        batch_op.create_check_constraint('event_type', _in('type', EVENT_TYPES_BEFORE))
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_case_route'), type_='check')
        batch_op.drop_column('route')
