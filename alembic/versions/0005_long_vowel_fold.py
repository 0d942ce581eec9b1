"""search: rebuild the index for the long-vowel folding (サーバー = サーバ)

Revision ID: 0005_long_vowel_fold
Revises: 0004_search
Create Date: 2026-11-26 13:00:00

Search folding now drops the long-vowel mark after a kana
(kyoso/services/search/tokens.py), so the tokens of every document are
made again. No schema change. Going back to 0004 leaves the index as it is:
run ``kyoso search rebuild`` with the older version's code.
"""
from typing import Sequence, Union

from alembic import op


revision: str = '0005_long_vowel_fold'
down_revision: Union[str, None] = '0004_search'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    from kyoso.services.search.index import rebuild

    rebuild(op.get_bind())


def downgrade() -> None:
    pass
