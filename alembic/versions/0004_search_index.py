"""search index: search_doc, plus FTS5 (SQLite) or a tsvector with GIN (PostgreSQL)

Revision ID: 0004_search
Revises: 0003_stamp_user_index
Create Date: 2026-11-26 07:30:00

The documents (``search_doc``) are a normal table on both engines. The
full-text index is engine-specific DDL (see kyoso/services/search/):

- SQLite: a contentless FTS5 table ``search_fts(grams, tails)`` whose rowid is
  ``search_doc.id``, over text pre-tokenised in Python (bigrams of kanji and
  kana, whole words otherwise), with a one-character prefix index so that a
  one-character query is fast.
- PostgreSQL: a ``tsv tsvector`` column on ``search_doc`` holding the same
  tokens (built from a literal, no text search configuration involved) and a
  GIN index. No extension is needed: Debian's ``postgresql`` package is enough.

Existing visible messages are indexed here.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
import kyoso.models


revision: str = '0004_search'
down_revision: Union[str, None] = '0003_stamp_user_index'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('search_doc',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('ref_id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=True),
    sa.Column('thread_id', sa.Integer(), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', kyoso.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('body', sqlmodel.sql.sqltypes.AutoString(length=8000), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_doc')),
    sa.UniqueConstraint('kind', 'ref_id', name='uq_search_doc_kind_ref_id')
    )
    with op.batch_alter_table('search_doc', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_doc_author_id'), ['author_id'], unique=False)
        batch_op.create_index('ix_search_doc_channel_id_id', ['channel_id', 'id'], unique=False)
        batch_op.create_index('ix_search_doc_created_at', ['created_at'], unique=False)

    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.create_index('ix_message_is_question_id', ['is_question', 'id'], unique=False)

    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        op.execute(
            "CREATE VIRTUAL TABLE search_fts USING fts5(grams, tails, content='', columnsize=0, "
            "prefix='1', tokenize='unicode61 remove_diacritics 0')"
        )
    elif dialect == 'postgresql':
        op.execute('ALTER TABLE search_doc ADD COLUMN tsv tsvector')
        op.execute('CREATE INDEX ix_search_doc_tsv ON search_doc USING gin (tsv)')

    # Index the messages already there.
    from kyoso.services.search.index import rebuild

    rebuild(op.get_bind())


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        op.execute('DROP TABLE IF EXISTS search_fts')
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_index('ix_message_is_question_id')

    with op.batch_alter_table('search_doc', schema=None) as batch_op:
        batch_op.drop_index('ix_search_doc_created_at')
        batch_op.drop_index('ix_search_doc_channel_id_id')
        batch_op.drop_index(batch_op.f('ix_search_doc_author_id'))

    op.drop_table('search_doc')
