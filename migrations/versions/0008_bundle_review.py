"""Bundles are reviewed and signed like documents: comments and approvals name a document or a bundle; signed volumes and zip; whether the evidence list is final

Revision ID: 0008_bundle_review
Revises: 0007_bundles
Create Date: 2026-12-02 17:40:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0008_bundle_review"
down_revision = "0007_bundles"
branch_labels = None
depends_on = None

ONE_SUBJECT = "(document_id IS NULL) <> (bundle_id IS NULL)"


def upgrade():
    with op.batch_alter_table("review_comment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bundle_id", sa.Integer(), nullable=True))
        batch_op.alter_column("document_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(
            batch_op.f("ix_review_comment_bundle_id"), ["bundle_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_review_comment_bundle_id_bundle"),
            "bundle",
            ["bundle_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_check_constraint("one_subject", ONE_SUBJECT)

    with op.batch_alter_table("approval", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bundle_id", sa.Integer(), nullable=True))
        batch_op.alter_column("document_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_unique_constraint(batch_op.f("uq_approval_bundle_id"), ["bundle_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_approval_bundle_id_bundle"),
            "bundle",
            ["bundle_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_check_constraint("one_subject", ONE_SUBJECT)

    with op.batch_alter_table("bundle", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signed_zip_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("final", sa.Boolean(), server_default=sa.true(), nullable=False)
        )

    with op.batch_alter_table("bundle_volume", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signed_sha256", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("bundle_volume", schema=None) as batch_op:
        batch_op.drop_column("signed_sha256")

    with op.batch_alter_table("bundle", schema=None) as batch_op:
        batch_op.drop_column("final")
        batch_op.drop_column("signed_zip_sha256")

    op.execute("DELETE FROM approval WHERE bundle_id IS NOT NULL")
    with op.batch_alter_table("approval", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_approval_one_subject"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_approval_bundle_id_bundle"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_approval_bundle_id"), type_="unique")
        batch_op.alter_column("document_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("bundle_id")

    op.execute("DELETE FROM review_comment WHERE bundle_id IS NOT NULL")
    with op.batch_alter_table("review_comment", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_review_comment_one_subject"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_review_comment_bundle_id_bundle"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_review_comment_bundle_id"))
        batch_op.alter_column("document_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("bundle_id")
