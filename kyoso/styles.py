"""Look and feel: calm, dense, readable Japanese; system fonts only (no web fonts
from another host, members sit on LGWAN)."""

FONT_STACK = (
    '"Hiragino Sans", "Hiragino Kaku Gothic ProN", "Noto Sans CJK JP", "Noto Sans JP", '
    '"BIZ UDPGothic", "Yu Gothic UI", Meiryo, system-ui, sans-serif'
)

SIDEBAR_BG = "#1d2740"
SIDEBAR_FG = "#e8ecf5"
SIDEBAR_MUTED = "#a9b3c9"
SIDEBAR_ACTIVE = "#3b4d7a"
BORDER = "var(--gray-a5)"
MUTED = "var(--gray-11)"

# Below this width the sidebar becomes a drawer.
PHONE = "@media (max-width: 768px)"

base_style = {
    "font_family": FONT_STACK,
    "::selection": {"background": "var(--accent-a5)"},
}
