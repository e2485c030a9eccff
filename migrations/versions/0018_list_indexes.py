"""Indexes for the lists' orders: audit by time, actor and object; cases by update; debtors by name

Revision ID: 0018_list_indexes
Revises: 0017_debtor_aging
Create Date: 2026-12-07 23:40:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0018_list_indexes'
down_revision = '0017_debtor_aging'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.create_index('ix_case_updated_at', ['updated_at'], unique=False)
    with op.batch_alter_table('debtor', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_debtor_name'), ['name'], unique=False)
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_index('ix_audit_entry_object', ['object_type', 'object_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entry_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entry_actor_label'), ['actor_label'], unique=False)


def downgrade():
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entry_actor_label'))
        batch_op.drop_index(batch_op.f('ix_audit_entry_occurred_at'))
        batch_op.drop_index('ix_audit_entry_object')
    with op.batch_alter_table('debtor', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_debtor_name'))
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_index('ix_case_updated_at')
