"""outbound plans: run activities of provisioning flows, a flow set's target and options

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 14:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('run_activities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), nullable=False, server_default='inbound'))
        batch_op.add_column(sa.Column('provisioning_flow_id', sa.String(length=36), nullable=True))
        batch_op.create_index('ix_run_activities_provisioning_flow_id', ['provisioning_flow_id'])
    with op.batch_alter_table('outbound_flow_sets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('target_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('options', sa.JSON(), nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('outbound_flow_sets', schema=None) as batch_op:
        batch_op.drop_column('options')
        batch_op.drop_column('target_id')
    with op.batch_alter_table('run_activities', schema=None) as batch_op:
        batch_op.drop_index('ix_run_activities_provisioning_flow_id')
        batch_op.drop_column('provisioning_flow_id')
        batch_op.drop_column('kind')
