"""lake versions published for readers (issue 18 item 9)

Revision ID: 0009_lake_versions
Revises: 0008
Create Date: 2026-12-03 17:50:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0009_lake_versions'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'lake_versions',
        sa.Column('tenant_id', sa.String(length=64), nullable=False),
        sa.Column('table_name', sa.String(length=100), nullable=False),
        sa.Column('version', sa.Integer(), nullable=True),
        sa.Column('committed_by', sa.String(length=200), nullable=False),
        sa.Column('committed', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id']),
        sa.PrimaryKeyConstraint('tenant_id', 'table_name'),
    )


def downgrade() -> None:
    op.drop_table('lake_versions')
