"""channels: join new members by default (お知らせ among them)

Revision ID: 0010_default_channels
Revises: 0009_login_devices
Create Date: 2026-12-02 00:00:00

A channel marked ``join_by_default`` takes every new active member as it
is approved (or created by ``kyoso user add``). The お知らせ channels that
exist are marked, so 説明会 invitations reach newcomers.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0010_default_channels'
down_revision: Union[str, None] = '0009_login_devices'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('channel', sa.Column('join_by_default', sa.Boolean(), nullable=False,
                                       server_default=sa.false()))
    op.execute(sa.text("UPDATE channel SET join_by_default = :yes WHERE kind = 'announcement'")
               .bindparams(yes=True))


def downgrade() -> None:
    # Not in batch mode: SQLite (3.35+) drops the column in place; copying the
    # table would break the foreign keys that point at it.
    op.drop_column('channel', 'join_by_default')
