"""Write paths: case reference sequences per year, case-insensitive invoice number index

Revision ID: 0015_write_paths
Revises: 0014_case_version
Create Date: 2026-12-07 23:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_write_paths'
down_revision = '0014_case_version'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'case_reference_sequence',
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('last', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('year', name=op.f('pk_case_reference_sequence')),
    )
    # Each year's counter starts at the highest number of its references, compared as numbers
    # ("AC-2026-10000" is after "AC-2026-9999", though not as text). "AC-2026-0007": the year
    # is characters 4-7, the number starts at character 9.
    op.execute(
        "INSERT INTO case_reference_sequence (year, last) "
        "SELECT CAST(substr(reference, 4, 4) AS INTEGER), "
        "MAX(CAST(substr(reference, 9) AS INTEGER)) "
        "FROM \"case\" WHERE reference LIKE 'AC-____-%' "
        "GROUP BY CAST(substr(reference, 4, 4) AS INTEGER)"
    )
    # The number check of an invoice upsert is case-insensitive (lower(number)): an index on
    # the plain column cannot serve it, so it replaces that one.
    op.drop_index('ix_invoice_creditor_number', table_name='invoice')
    op.create_index(
        'ix_invoice_creditor_lower_number',
        'invoice',
        ['creditor_id', sa.text('lower(number)')],
        unique=False,
    )


def downgrade():
    op.drop_index('ix_invoice_creditor_lower_number', table_name='invoice')
    op.create_index('ix_invoice_creditor_number', 'invoice', ['creditor_id', 'number'], unique=False)
    op.drop_table('case_reference_sequence')
