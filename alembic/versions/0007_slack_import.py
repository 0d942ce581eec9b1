"""slack import: keys of imported users, channels and messages

Revision ID: 0007_slack_import
Revises: 0006_mail
Create Date: 2026-12-01 23:45:00

``kyoso import slack`` records which member each Slack user became, which
channel each Slack channel became, and the key (workspace, channel, ts) of
every imported message, so that a second run changes nothing and a killed
run resumes. Members without a kyoso account are users with status
``unclaimed`` (a value of an existing column: no schema change).
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
import kyoso.models


revision: str = '0007_slack_import'
down_revision: Union[str, None] = '0006_mail'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('slack_import_user',
    sa.Column('workspace', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('slack_id', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('org_code', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
    sa.Column('department', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_slack_import_user_user_id_user')),
    sa.PrimaryKeyConstraint('workspace', 'slack_id', name=op.f('pk_slack_import_user'))
    )
    with op.batch_alter_table('slack_import_user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slack_import_user_user_id'), ['user_id'], unique=False)

    op.create_table('slack_import_channel',
    sa.Column('workspace', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('slack_id', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('finished_at', kyoso.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['channel_id'], ['channel.id'], name=op.f('fk_slack_import_channel_channel_id_channel')),
    sa.PrimaryKeyConstraint('workspace', 'slack_id', name=op.f('pk_slack_import_channel'))
    )
    with op.batch_alter_table('slack_import_channel', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slack_import_channel_channel_id'), ['channel_id'], unique=False)

    op.create_table('slack_import_message',
    sa.Column('workspace', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('ts', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('pinned', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_slack_import_message_message_id_message')),
    sa.PrimaryKeyConstraint('workspace', 'channel', 'ts', name=op.f('pk_slack_import_message'))
    )


    # 未設定: the 団体 of an imported member whose 団体 is not known.
    org = sa.table('organisation', *(sa.column(c) for c in (
        'code', 'kind', 'name', 'kana', 'prefecture_code', 'prefecture', 'region')))
    op.bulk_insert(org, [{'code': kyoso.models.UNSET_ORG_CODE, 'kind': 'unset', 'name': '未設定',
                          'kana': 'みせってい', 'prefecture_code': '', 'prefecture': '', 'region': ''}])


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM organisation WHERE code = :c").bindparams(c=kyoso.models.UNSET_ORG_CODE))
    op.drop_table('slack_import_message')
    with op.batch_alter_table('slack_import_channel', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_slack_import_channel_channel_id'))
    op.drop_table('slack_import_channel')
    with op.batch_alter_table('slack_import_user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_slack_import_user_user_id'))
    op.drop_table('slack_import_user')
