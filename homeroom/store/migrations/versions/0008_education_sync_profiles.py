"""education synchronization profiles (SDS classic) and their errors

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 14:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'education_sync_profiles',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('tenant_id', sa.String(length=64), nullable=False),
        sa.Column('display_name', sa.String(length=200), nullable=False),
        sa.Column('state', sa.String(length=30), nullable=False),
        sa.Column('data_provider', sa.JSON(), nullable=False),
        sa.Column('secrets', sa.JSON(), nullable=False),
        sa.Column('identity', sa.JSON(), nullable=True),
        sa.Column('licenses', sa.JSON(), nullable=False),
        sa.Column('expiration_date', sa.Date(), nullable=True),
        sa.Column('handle_special_characters', sa.Boolean(), nullable=True),
        sa.Column('created', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_modified', sa.DateTime(timezone=True), nullable=False),
        sa.Column('flow_id', sa.String(length=36), nullable=True),
        sa.Column('flow_set_id', sa.String(length=36), nullable=True),
        sa.Column('status', sa.String(length=30), nullable=False),
        sa.Column('status_message', sa.Text(), nullable=True),
        sa.Column('last_synchronization', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_activity', sa.DateTime(timezone=True), nullable=True),
        sa.Column('package', sa.Text(), nullable=True),
        sa.Column('run_id', sa.String(length=36), nullable=True),
        sa.Column('paused_status', sa.String(length=30), nullable=True),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('education_sync_profiles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_education_sync_profiles_tenant_id'), ['tenant_id'], unique=False)
    op.create_table(
        'education_sync_errors',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('tenant_id', sa.String(length=64), nullable=False),
        sa.Column('profile_id', sa.String(length=36), nullable=False),
        sa.Column('entry_type', sa.String(length=40), nullable=False),
        sa.Column('error_code', sa.String(length=60), nullable=False),
        sa.Column('error_message', sa.Text(), nullable=False),
        sa.Column('joining_value', sa.Text(), nullable=True),
        sa.Column('reportable_identifier', sa.Text(), nullable=True),
        sa.Column('recorded', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['profile_id'], ['education_sync_profiles.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('education_sync_errors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_education_sync_errors_profile_id'), ['profile_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_education_sync_errors_tenant_id'), ['tenant_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('education_sync_errors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_education_sync_errors_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_education_sync_errors_profile_id'))
    op.drop_table('education_sync_errors')
    with op.batch_alter_table('education_sync_profiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_education_sync_profiles_tenant_id'))
    op.drop_table('education_sync_profiles')
