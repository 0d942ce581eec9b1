// kyoso tells a member who is not looking (issue 15, part 6):
//   - the number of unread notifications (mentions, replies, ...) in the tab
//     title, "(3) 共創 kyoso", and as a red badge on the favicon;
//   - optionally a desktop notification while the tab is hidden, through the
//     browser's Notification API. Permission is asked only when the member
//     clicks [data-kyoso-notify-ask] (on /settings), never on load.
// The count comes from the page itself: the shell renders the live sidebar
// count into [data-kyoso-unread]. Nothing here talks to any host.

const OPT_IN = "kyoso_desktop_notify";
const PREFIX = /^\(\d+\+?\) /;
let shown = -1;
let last = null;
let iconHref = null;
let scheduled = false;

function unreadCount() {
  const el = document.querySelector("[data-kyoso-unread]");
  if (!el) return 0;
  const n = parseInt(el.getAttribute("data-kyoso-unread") || "0", 10);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

function label(n) {
  return n > 99 ? "99+" : String(n);
}

function setTitle(n) {
  const bare = document.title.replace(PREFIX, "");
  const want = n > 0 ? `(${label(n)}) ${bare}` : bare;
  if (document.title !== want) document.title = want;
}

function badgeIcon(n) {
  const text = n > 9 ? "9+" : String(n);
  const svg =
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">' +
    '<rect width="64" height="64" rx="14" fill="#1d2740"/>' +
    '<text x="28" y="44" font-size="34" text-anchor="middle" fill="#fff" font-family="sans-serif">共</text>' +
    '<circle cx="46" cy="18" r="17" fill="#e5484d" stroke="#fff" stroke-width="3"/>' +
    `<text x="46" y="26" font-size="${text.length > 1 ? 18 : 24}" text-anchor="middle" fill="#fff" ` +
    `font-family="sans-serif" font-weight="bold">${text}</text></svg>`;
  return "data:image/svg+xml;charset=utf-8," + encodeURIComponent(svg);
}

function setIcon(n) {
  const link = document.querySelector('link[rel~="icon"]');
  if (!link) return;
  if (iconHref === null) iconHref = link.getAttribute("href");
  const want = n > 0 ? badgeIcon(n) : iconHref;
  if (link.getAttribute("href") !== want) link.setAttribute("href", want);
}

function desktopWanted() {
  try {
    return (
      "Notification" in window &&
      Notification.permission === "granted" &&
      localStorage.getItem(OPT_IN) === "1"
    );
  } catch (e) {
    return false;
  }
}

function notify(n) {
  if (!document.hidden || !desktopWanted()) return;
  const note = new Notification("共創 kyoso", {
    body: `未読の通知が${label(n)}件あります。`,
    icon: "/favicon.svg",
    tag: "kyoso-unread", // one notification, replaced, not a pile
  });
  note.onclick = () => {
    window.focus();
    window.location.assign("/inbox");
    note.close();
  };
}

function status(text) {
  document.querySelectorAll("[data-kyoso-notify-status]").forEach((el) => {
    if (el.textContent !== text) el.textContent = text;
  });
}

function describe() {
  if (!("Notification" in window)) return "このブラウザはデスクトップ通知に対応していません。";
  if (Notification.permission === "denied")
    return "このブラウザでは通知が拒否されています。ブラウザのサイト設定で許可すると使えます。";
  return desktopWanted() ? "デスクトップ通知は有効です。" : "デスクトップ通知は無効です。";
}

function update() {
  scheduled = false;
  const n = unreadCount();
  setTitle(n);
  if (n !== shown) {
    setIcon(n);
    if (last !== null && n > last) notify(n);
    shown = n;
    last = n;
  }
  if (document.querySelector("[data-kyoso-notify-status]")) status(describe());
}

function schedule() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(update);
  setTimeout(() => scheduled && update(), 500); // a hidden tab gets no animation frames
}

export function startNotify() {
  if (typeof window === "undefined" || window.__kyosoNotify) return;
  window.__kyosoNotify = true;
  new MutationObserver(schedule).observe(document.documentElement, {
    subtree: true,
    childList: true,
    characterData: true,
    attributes: true,
    attributeFilter: ["data-kyoso-unread"],
  });
  document.addEventListener("click", (e) => {
    const ask = e.target.closest && e.target.closest("[data-kyoso-notify-ask]");
    const off = e.target.closest && e.target.closest("[data-kyoso-notify-off]");
    if (off) {
      localStorage.removeItem(OPT_IN);
      status(describe());
    }
    if (!ask) return;
    if (!("Notification" in window)) {
      status(describe());
      return;
    }
    // Asked here, inside the member's click: never on load.
    Notification.requestPermission().then((answer) => {
      if (answer === "granted") localStorage.setItem(OPT_IN, "1");
      status(describe());
    });
  });
  update();
}
