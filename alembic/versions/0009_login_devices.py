"""browsers that logged in before (device tokens for login throttling)

Revision ID: 0009_login_devices
Revises: 0008_attachments
Create Date: 2026-12-02 00:10:00.000000
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
import kyoso.models


revision: str = '0009_login_devices'
down_revision: Union[str, None] = '0008_attachments'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('logindevice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', kyoso.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', kyoso.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_logindevice_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_logindevice')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_logindevice_token_hash'))
    )
    with op.batch_alter_table('logindevice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_logindevice_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('logindevice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_logindevice_user_id'))
    op.drop_table('logindevice')
