// kyoso live patches: applied in the browser to Reflex's state store.
//
// The server sends a change ONCE to a socket.io room as a normal Reflex state
// update whose only var is `live_patch` = {seq, ops}. This module watches the
// store for new patches and applies their ops to the state's other vars
// (kyoso/realtime/hub.py explains why). Ops:
//   upsert  {var, item, insert, desc, when}  list var: replace the item with
//           the same id if the new rev is not older; insert it (kept sorted by
//           id, newest first with `desc`) when `insert` is true
//   replace {var, item, when}           object var holding one item: replace
//           it when its id matches and the rev is not older
//   patch   {var, id, fields, rev}      merge fields into the item with that id
//           (in a list var, or an object var holding one item)
//   remove  {var, id, when}             drop the list item with that id
//   put     {var, key, value}           dict var: set one key (rev-guarded)
//   incr    {var, id, field, by, unless_me, unless}
//   set     {var, value, rev, rev_var}  replace a var (rev-guarded if given)
//   member  {var, value, present}       list var of strings: make `value` present
//           in it, or absent (a member's own stamps)
// `unless_me` (a member id): that member's browser skips the op; `as_me` {id, fields}:
// that member's browser merges `fields` into the op's item (an author's own お知らせ is read).
// `when` / `unless` are conditions {state?, var, eq}: `var` may be a dotted
// path ("channel.id"), `state` another state's full name; or {path}: the page
// shown is that path.

const SUFFIX = "_rx_state_";
const lastPatch = new Map();

// Vars held still while a finger or the mouse is pressed on a list that shows
// them (data-kyoso-hold="var ..."): their ops wait, in order, until the press
// ends, so the row under the pointer is the row the click acts on.
const holding = new Set();
const heldOps = [];

// Reorder animations under a press are paused too: a row gliding into place
// must not slide out from under the finger.
const pausedAnimations = [];

function releaseHeld() {
  holding.clear();
  for (const a of pausedAnimations.splice(0)) {
    try {
      a.play();
    } catch (e) {
      /* finished or removed meanwhile */
    }
  }
  const ops = heldOps.splice(0);
  for (const [store, state, op, me] of ops) {
    try {
      applyOp(store, state, op, me);
    } catch (e) {
      console.error("kyoso live patch failed", e, op);
    }
  }
}

function getPath(obj, path) {
  let cur = obj;
  for (const part of path.split(".")) {
    if (cur === null || cur === undefined) return undefined;
    cur = cur[part];
  }
  return cur;
}

function readVar(store, state, path) {
  const snap = store.getSnapshot(state);
  if (!snap) return undefined;
  const [head, ...rest] = path.split(".");
  const value = snap[head + SUFFIX];
  return rest.length ? getPath(value, rest.join(".")) : value;
}

function currentPath() {
  return window.location.pathname.replace(/\/+$/, "") || "/";
}

function holds(store, state, cond) {
  if (!cond) return true;
  const conds = Array.isArray(cond) ? cond : [cond];
  return conds.every((c) =>
    c.path !== undefined ? currentPath() === c.path : readVar(store, c.state || state, c.var) === c.eq,
  );
}

function newer(item, old) {
  if (!old) return true;
  if (item.rev === undefined || old.rev === undefined) return true;
  return item.rev >= old.rev;
}

function applyOp(store, state, op, me) {
  if (holding.has(op.var)) {
    heldOps.push([store, state, op, me]);
    return;
  }
  const target = op.state || state;
  if (op.when && !holds(store, target, op.when)) return;
  if (op.unless && holds(store, target, op.unless)) return;
  if (op.unless_me !== undefined && op.unless_me === me()) return;
  if (op.as_me && op.item && op.as_me.id === me()) op = { ...op, item: { ...op.item, ...op.as_me.fields } };
  const key = op.var + SUFFIX;
  const current = (store.getSnapshot(target) || {})[key];
  let next = current;
  switch (op.op) {
    case "upsert": {
      const list = Array.isArray(current) ? current : [];
      const i = list.findIndex((x) => x && x.id === op.item.id);
      if (i >= 0) {
        if (!newer(op.item, list[i])) return;
        next = list.slice();
        next[i] = op.item;
      } else if (op.insert) {
        next = list.concat([op.item]).sort((a, b) => (op.desc ? b.id - a.id : a.id - b.id));
      } else return;
      break;
    }
    case "replace": {
      if (!current || current.id !== op.item.id || !newer(op.item, current)) return;
      next = op.item;
      break;
    }
    case "patch": {
      const stale = (x) => op.rev !== undefined && x.rev !== undefined && op.rev < x.rev;
      const merged = (x) => ({ ...x, ...op.fields, ...(op.rev !== undefined ? { rev: op.rev } : {}) });
      if (Array.isArray(current)) {
        const i = current.findIndex((x) => x && x.id === op.id);
        if (i < 0 || stale(current[i])) return;
        next = current.slice();
        next[i] = merged(current[i]);
      } else {
        if (!current || current.id !== op.id || stale(current)) return;
        next = merged(current);
      }
      break;
    }
    case "remove": {
      const list = Array.isArray(current) ? current : [];
      next = list.filter((x) => !(x && x.id === op.id));
      if (next.length === list.length) return;
      break;
    }
    case "put": {
      const old = current && current[op.key];
      if (old && op.value && !newer(op.value, old)) return;
      next = { ...(current || {}), [op.key]: op.value };
      break;
    }
    case "incr": {
      const list = Array.isArray(current) ? current : [];
      const i = list.findIndex((x) => x && x.id === op.id);
      if (i < 0) return;
      next = list.slice();
      next[i] = { ...list[i], [op.field]: (list[i][op.field] || 0) + (op.by || 1) };
      break;
    }
    case "member": {
      const list = Array.isArray(current) ? current : [];
      const has = list.includes(op.value);
      if (has === Boolean(op.present)) return;
      next = op.present ? list.concat([op.value]) : list.filter((x) => x !== op.value);
      break;
    }
    case "set": {
      if (op.rev !== undefined && op.rev_var) {
        const have = readVar(store, target, op.rev_var);
        if (typeof have === "number" && have > op.rev) return;
      }
      next = op.value;
      break;
    }
    default:
      return;
  }
  store.dispatchers[target]({ [key]: next });
}

export function attachLive(store, states, meState) {
  if (!store || !store.subscribe) return () => {};
  const me = () => {
    const snap = store.getSnapshot(meState);
    const value = snap && snap["me" + SUFFIX];
    return value ? value.id : undefined;
  };
  const unsubscribers = states.map((state) =>
    store.subscribe(state, () => {
      const snap = store.getSnapshot(state);
      const patch = snap && snap["live_patch" + SUFFIX];
      if (!patch || !patch.ops || lastPatch.get(state) === patch) return;
      lastPatch.set(state, patch);
      for (const op of patch.ops) {
        try {
          applyOp(store, state, op, me);
        } catch (e) {
          console.error("kyoso live patch failed", e, op);
        }
      }
    }),
  );
  return () => unsubscribers.forEach((u) => u());
}

// ---------------------------------------------------------------------------
// Page behaviour that a chat needs and Reflex does not give: keep a message
// list pinned to its newest message, keep the reading position when older
// messages are prepended, ask for older ones near the top, send with
// Ctrl+Enter (Enter alone stays a newline, which Japanese input needs).
// ---------------------------------------------------------------------------

const ids = (el) =>
  [...el.querySelectorAll("[data-message-id]")].map((m) => Number(m.getAttribute("data-message-id")));

function pin(el) {
  if (el.__kyosoPinned) return;
  el.__kyosoPinned = true;
  let stuck = true;
  let height = el.scrollHeight;
  let first = el.querySelector("[data-message-id]");
  // Posts that arrived below while the reader was scrolled up: counted on the
  // 「新しい投稿 N件」 pill (a [data-kyoso-pill] button inside the list).
  let newest = Math.max(0, ...ids(el));
  let unseen = 0;
  const pill = () => el.querySelector("[data-kyoso-pill]");
  const showPill = () => {
    const p = pill();
    if (!p) return;
    const text = unseen > 0 ? `新しい投稿 ${unseen}件` : "";
    if (p.textContent !== text) p.textContent = text;
    if (p.hidden !== (unseen === 0)) p.hidden = unseen === 0;
  };
  const atBottom = () => el.scrollHeight - el.scrollTop - el.clientHeight < 80;
  el.__kyosoToBottom = () => {
    stuck = true;
    unseen = 0;
    showPill();
    el.scrollTop = el.scrollHeight;
  };
  el.addEventListener("click", (e) => {
    if (e.target.closest && e.target.closest("[data-kyoso-pill]")) el.__kyosoToBottom();
  });
  el.addEventListener("scroll", () => {
    stuck = atBottom();
    if (stuck && unseen) {
      unseen = 0;
      showPill();
    }
    if (el.scrollTop < 120) {
      const more = el.querySelector("[data-load-older]");
      if (more && !more.disabled && !more.__kyosoAsked) {
        more.__kyosoAsked = true;
        more.click();
        setTimeout(() => (more.__kyosoAsked = false), 800);
      }
    }
  });
  const target = () => {
    const want = el.getAttribute("data-scroll-to");
    return want ? el.querySelector(`[data-message-id="${want}"]`) : null;
  };
  const settle = () => {
    const nowFirst = el.querySelector("[data-message-id]");
    const now = ids(el);
    const arrived = now.filter((id) => id > newest).length;
    if (now.length) newest = Math.max(newest, ...now);
    const focus = target();
    if (focus && !focus.__kyosoShown) {
      focus.__kyosoShown = true;
      focus.scrollIntoView({ block: "center" });
      stuck = atBottom();
    } else if (stuck) {
      el.scrollTop = el.scrollHeight;
    } else if (arrived > 0) {
      // Below the reader: nothing moves, the pill counts them.
      unseen += arrived;
      showPill();
    } else if (first && nowFirst && nowFirst !== first && el.scrollTop < 200) {
      // Older messages were prepended: keep what the reader was looking at.
      el.scrollTop += el.scrollHeight - height;
    }
    height = el.scrollHeight;
    first = nowFirst;
  };
  new MutationObserver(settle).observe(el, { childList: true, subtree: true });
  settle();
}

// Rows that change place (data-flip-id inside [data-kyoso-flip]) glide from
// their old place to the new one, so the eye can follow a reorder.
function flip(el) {
  if (el.__kyosoFlip) return;
  el.__kyosoFlip = true;
  const still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  let places = new Map();
  const measure = () => {
    const next = new Map();
    for (const row of el.querySelectorAll(":scope > [data-flip-id]")) {
      next.set(row.getAttribute("data-flip-id"), row.offsetTop);
    }
    return next;
  };
  const moved = () => {
    const next = measure();
    if (!still) {
      for (const row of el.querySelectorAll(":scope > [data-flip-id]")) {
        const before = places.get(row.getAttribute("data-flip-id"));
        const after = next.get(row.getAttribute("data-flip-id"));
        if (before === undefined || before === after || !row.animate) continue;
        const glide = row.animate([{ transform: `translateY(${before - after}px)` }, { transform: "translateY(0)" }],
                                  { duration: 300, easing: "ease-out" });
        // A render that was already on its way when the press went down still
        // moves rows: under a press they wait where they were until it ends.
        if (holding.size) {
          glide.pause();
          pausedAnimations.push(glide);
        }
      }
    }
    places = next;
  };
  places = measure();
  new MutationObserver(moved).observe(el, { childList: true, subtree: true, attributes: true,
                                           attributeFilter: ["style", "class"] });
}

function hold(el) {
  if (el.__kyosoHold) return;
  el.__kyosoHold = true;
  el.addEventListener("pointerdown", () => {
    for (const v of (el.getAttribute("data-kyoso-hold") || "").split(/\s+/)) if (v) holding.add(v);
    if (el.getAnimations) {
      for (const a of el.getAnimations({ subtree: true })) {
        if (a.playState === "running") {
          a.pause();
          pausedAnimations.push(a);
        }
      }
    }
  });
}

// ---------------------------------------------------------------------------
// Never lose what someone typed. A composer (textarea[data-draft-key]) keeps
// its draft in localStorage per channel and thread, restores it after a
// reload or on switching threads, and after a send the server asks
// kyosoSent(id, text) to remove only the text that was sent: anything typed
// meanwhile stays.
// ---------------------------------------------------------------------------

const DRAFT = "kyoso-draft:";
// Below the server's websocket message cap (KYOSO_WS_MAX_BYTES, 320 KB) with
// room for the event around the form's values; every form within the
// domain's limits is far smaller (the largest, a 意見募集 at its limits, ~220 KB).
const FORM_MAX_BYTES = 300 * 1024;
const TOO_LONG = "入力が長すぎるため送信できません。文字数の上限を超えている部分を短くしてから、もう一度送信してください（入力した内容はそのまま残っています）。";

function saveDraft(key, value) {
  try {
    if (value) localStorage.setItem(DRAFT + key, value);
    else localStorage.removeItem(DRAFT + key);
  } catch (e) {
    /* storage full or blocked: the text is still in the box */
  }
}

function loadDraft(key) {
  try {
    return localStorage.getItem(DRAFT + key) || "";
  } catch (e) {
    return "";
  }
}

function draft(el) {
  const key = el.getAttribute("data-draft-key");
  // The key names the channel (and thread); it is incomplete until the page has loaded.
  if (!key || /:$|:0$/.test(key) || el.__kyosoDraftKey === key) return;
  const first = el.__kyosoDraftKey === undefined;
  if (!first) saveDraft(el.__kyosoDraftKey, el.value); // leaving a thread: its draft stays
  el.__kyosoDraftKey = key;
  const saved = loadDraft(key);
  if (first) {
    if (saved && !el.value) el.value = saved;
  } else {
    el.value = saved; // the same box now writes to another thread: that thread's draft
  }
  if (!el.__kyosoDraftListen) {
    el.__kyosoDraftListen = true;
    el.addEventListener("input", () => saveDraft(el.__kyosoDraftKey, el.value));
  }
}

if (typeof window !== "undefined") {
  window.kyosoSent = (id, sent) => {
    const el = document.getElementById(id);
    if (!el) return;
    const now = el.value;
    let rest = now;
    if (now === sent) rest = "";
    else if (sent && now.startsWith(sent)) rest = now.slice(sent.length).replace(/^\s*\n/, "");
    if (rest !== now) el.value = rest;
    if (el.__kyosoDraftKey) saveDraft(el.__kyosoDraftKey, rest);
  };
}

function scan() {
  document.querySelectorAll("textarea[data-draft-key]").forEach(draft);
  document.querySelectorAll("[data-kyoso-pin]").forEach(pin);
  document.querySelectorAll("[data-kyoso-flip]").forEach(flip);
  document.querySelectorAll("[data-kyoso-hold]").forEach(hold);
}

if (typeof window !== "undefined" && !window.__kyosoPage) {
  window.__kyosoPage = true;
  new MutationObserver(scan).observe(document.documentElement, { childList: true, subtree: true,
                                                               attributes: true,
                                                               attributeFilter: ["data-draft-key"] });
  // The press ends: the click (dispatched after pointerup) has run with the
  // row the person saw; then the held updates apply.
  const release = () => {
    if (holding.size) setTimeout(releaseHeld, 0);
  };
  document.addEventListener("pointerup", release, true);
  document.addEventListener("pointercancel", release, true);
  window.addEventListener("blur", release);
  // A press whose end the page never heard of (released on a scrollbar,
  // outside the window): the pointer moving with no button down ends it.
  document.addEventListener("pointermove", (e) => {
    if (holding.size && e.buttons === 0) release();
  }, true);
  // A form too large for one websocket message (the server closes a socket
  // that sends more than KYOSO_WS_MAX_BYTES) is not sent: the largest field
  // says why, and everything typed stays where it is.
  document.addEventListener("submit", (e) => {
    const form = e.target;
    if (!form || !form.elements) return;
    const utf8 = new TextEncoder();
    let bytes = 0;
    let largest = null;
    for (const el of form.elements) {
      if (typeof el.value !== "string" || !el.name) continue;
      const n = utf8.encode(el.value).length;
      bytes += n;
      if (!largest || n > largest.n) largest = { el, n };
    }
    if (bytes <= FORM_MAX_BYTES || !largest) return;
    e.preventDefault();
    e.stopImmediatePropagation();
    const el = largest.el;
    el.setCustomValidity(TOO_LONG);
    el.reportValidity();
    const clear = () => { el.setCustomValidity(""); el.removeEventListener("input", clear); };
    el.addEventListener("input", clear);
  }, true);
  // Sending from a composer: the reader wants to see the post, wherever they were.
  document.addEventListener("submit", (e) => {
    const form = e.target;
    if (!form || !form.id) return;
    const pane = form.closest("aside") ? document.querySelector("[data-testid=thread-panel] [data-kyoso-pin]")
      : document.querySelector("[data-testid=message-list]");
    if (pane && pane.__kyosoToBottom && /composer|thread/.test(form.id)) pane.__kyosoToBottom();
  }, true);
  // Keyboard for desktop users: Ctrl+K / ⌘K the channel switcher, ? the help,
  // Esc closes the thread panel, ↑ in an empty composer edits my last post.
  const typing = (el) => el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT"
                                || el.isContentEditable);
  const openDialog = (id, focus) => {
    const b = document.getElementById(id);
    if (!b) return false;
    b.click();
    if (focus) setTimeout(() => { const f = document.getElementById(focus); if (f) { f.value = ""; filterSwitcher(""); f.focus(); } }, 30);
    return true;
  };
  const filterSwitcher = (q) => {
    const want = q.trim().toLowerCase();
    document.querySelectorAll("#kyoso-switcher-list [data-switch-name]").forEach((a) => {
      a.hidden = !!want && !a.getAttribute("data-switch-name").toLowerCase().includes(want);
      a.style.display = a.hidden ? "none" : "";
    });
  };
  // The stamp palette's search: by label, emoji by a few Japanese words.
  const EMOJI_WORDS = { "👍": "いいね 賛成 了解 good", "🙏": "お願い 感謝 ありがとう", "🎉": "おめでとう お祝い",
                        "👀": "見ました 確認 みてます", "😂": "笑 わらい おもしろい", "✅": "完了 済み チェック" };
  document.addEventListener("input", (e) => {
    if (e.target && e.target.id === "kyoso-switcher-input") filterSwitcher(e.target.value);
    if (e.target && e.target.hasAttribute && e.target.hasAttribute("data-stamp-filter")) {
      const want = e.target.value.trim().toLowerCase();
      const box = e.target.parentElement;
      box.querySelectorAll("[data-stamp]").forEach((b) => {
        const label = b.getAttribute("data-stamp");
        const words = (label + " " + (EMOJI_WORDS[label] || "")).toLowerCase();
        b.style.display = want && !words.includes(want) ? "none" : "";
      });
    }
  });
  document.addEventListener("keydown", (e) => {
    const el = e.target;
    if (e.isComposing) return;
    if ((e.ctrlKey || e.metaKey) && !e.altKey && (e.key === "k" || e.key === "K")) {
      if (openDialog("kyoso-switcher-open", "kyoso-switcher-input")) e.preventDefault();
      return;
    }
    if (el && el.id === "kyoso-switcher-input") {
      const shown = [...document.querySelectorAll("#kyoso-switcher-list [data-switch-name]")].filter((a) => !a.hidden);
      if (e.key === "Enter" && shown.length) { e.preventDefault(); shown[0].click(); }
      if (e.key === "ArrowDown" && shown.length) { e.preventDefault(); shown[0].focus(); }
      return;
    }
    if (el && el.closest && el.closest("#kyoso-switcher-list") && (e.key === "ArrowDown" || e.key === "ArrowUp")) {
      const shown = [...document.querySelectorAll("#kyoso-switcher-list [data-switch-name]")].filter((a) => !a.hidden);
      const i = shown.indexOf(el.closest("[data-switch-name]"));
      const next = e.key === "ArrowDown" ? shown[i + 1] : (i > 0 ? shown[i - 1] : document.getElementById("kyoso-switcher-input"));
      if (next) { e.preventDefault(); next.focus(); }
      return;
    }
    if (e.key === "?" && !typing(el) && !e.ctrlKey && !e.metaKey) {
      if (openDialog("kyoso-help-open")) e.preventDefault();
      return;
    }
    if (e.key === "Escape" && !document.querySelector("[role=dialog], [role=menu]")) {
      const close = document.querySelector("[data-testid=thread-close]");
      if (close) { e.preventDefault(); close.click(); }
      return;
    }
    if (e.key === "ArrowUp" && el && el.tagName === "TEXTAREA" && el.hasAttribute("data-draft-key") && !el.value) {
      const scope = el.closest("aside") || document.querySelector("[data-testid=message-list]");
      const mine = scope ? scope.querySelectorAll("[data-edit-mine]") : [];
      if (mine.length) {
        e.preventDefault();
        mine[mine.length - 1].click();
        let tries = 0;
        const focusEdit = () => {
          const box = document.getElementById("edit-composer");
          if (box) { box.focus(); box.setSelectionRange(box.value.length, box.value.length); }
          else if (tries++ < 20) setTimeout(focusEdit, 50);
        };
        focusEdit();
      }
    }
  });
  document.addEventListener("keydown", (e) => {
    const el = e.target;
    if (!el || el.tagName !== "TEXTAREA" || !el.hasAttribute("data-ctrl-enter")) return;
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && !e.isComposing) {
      e.preventDefault();
      const form = el.closest("form");
      if (form) form.requestSubmit();
    }
  });
}
