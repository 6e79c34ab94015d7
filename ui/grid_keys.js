// Keys typed fast into the customers grid reach its cell editor, all of them, in order.
//
// Streamlit 1.67's grid (glide-data-grid, compiled into streamlit/static) loses them in two
// places, both seen in Chromium with a barcode scanner's speed:
// 1. Typing on a selected cell opens its editor with the key as the starting text. Keys
//    that arrive before the editor has the focus open it again, each with its own key: the
//    editor starts with the *last* of them ("0592-5555555" became "592-5555555").
// 2. Enter/Tab in the editor commits the text of the editor's last render, not what the box
//    holds: a key typed in the same frame as Enter is missing. And every key the editor
//    handles starts a timer (setTimeout 0) that closes the editor *without saving* if a
//    commit key has been pressed meanwhile: when Enter comes before the timer of the key
//    typed just before it has run (input and drawing go before timers in Chromium), the
//    whole edit is thrown away.
// 3. A click on a cell just after the page was opened again moves the focus to the cell
//    selected before (its accessibility cell); if that cell is scrolled out of view, its
//    element is removed and the focus falls to the page: the cell looks selected, but the
//    keys typed next reach nothing.
// So: after the key that opens an editor, the next keys are held until the editor has the
// focus and then typed into it; Enter/Tab in a text editor is passed on once the typed text
// is drawn and, after that, once the timers of the keys before it have run (timers of the
// same delay run in the order they were started); a key that reaches the page itself after
// a click on a grid goes to that grid.
// Installed once per page (Streamlit runs this script on every rerun).
(() => {
  if (window.__cmGridKeys) return;
  window.__cmGridKeys = true;
  const printable = (e) => e.key.length === 1 && !e.ctrlKey && !e.metaKey && !e.altKey;
  const commitKey = (e) => (e.key === "Enter" && !e.shiftKey) || e.key === "Tab";
  const inGrid = (el) => !!(el && el.closest && el.closest('[data-testid="stDataFrame"]'));
  const isEditor = (el) => !!(el && el.closest && el.closest(".gdg-clip-region")
                              && (el.tagName === "TEXTAREA" || el.tagName === "INPUT"));
  const isTextEditor = (el) => isEditor(el) && el.getAttribute("role") !== "combobox";
  const afterDraw = (f) => requestAnimationFrame(() => requestAnimationFrame(f));
  const pressLater = (el, key, shiftKey) => afterDraw(() => setTimeout(() => el.dispatchEvent(
    new KeyboardEvent("keydown", {key, code: key, shiftKey, bubbles: true, cancelable: true})), 0));
  let held = null; // keys typed after the one that opens an editor, until they are typed into it
  let target = null; // the editor they go to, once it has the focus
  let clicked = null; // the grid clicked last, until the focus goes somewhere else

  document.addEventListener("pointerdown", (e) => {
    clicked = (e.target.closest && e.target.closest('[data-testid="stDataFrame"]')) || null;
  }, true);

  document.addEventListener("keydown", (e) => {
    if (!e.isTrusted || e.isComposing) return;
    const el = e.target;
    if (el === document.body && clicked && clicked.isConnected) { // the focus fell out of the grid
      const canvas = clicked.querySelector('[data-testid="data-grid-canvas"]');
      if (canvas) {
        e.preventDefault();
        e.stopImmediatePropagation();
        canvas.focus();
        if (printable(e)) startHolding();
        canvas.dispatchEvent(new KeyboardEvent("keydown", {key: e.key, code: e.code, shiftKey: e.shiftKey,
                                                         bubbles: true, cancelable: true}));
        return;
      }
    }
    if (held !== null && !inGrid(el) && !isEditor(el)) held = null; // the user went elsewhere
    if (held !== null && (!isEditor(el) || el === target)) {
      if (printable(e) || commitKey(e)) {
        held.push([e.key, e.shiftKey]);
        e.preventDefault();
        e.stopImmediatePropagation();
      } else if (e.key === "Escape") {
        held = null;
        target = null;
      }
      return;
    }
    if (isTextEditor(el) && commitKey(e)) { // commit once the typed text is drawn
      e.preventDefault();
      e.stopImmediatePropagation();
      pressLater(el, e.key, e.shiftKey);
      return;
    }
    if (inGrid(el) && !isEditor(el) && printable(e)) startHolding();
  }, true);

  function startHolding() {
    held = [];
    const mine = held;
    setTimeout(() => { if (held === mine && target === null) held = null; }, 1000); // no editor: a locked cell
  }

  document.addEventListener("focusin", (e) => {
    if (!inGrid(e.target) && !isEditor(e.target)) clicked = null;
    if (held === null || target !== null || !isEditor(e.target)) return;
    target = e.target;
    afterDraw(() => {
      const el = target;
      const keys = held || [];
      held = null;
      target = null;
      let text = "";
      let i = 0;
      for (; i < keys.length && keys[i][0].length === 1; i++) text += keys[i][0];
      if (text) {
        el.focus();
        document.execCommand("insertText", false, text);
      }
      if (i < keys.length) pressLater(el, keys[i][0], keys[i][1]);
    });
  }, true);
})();
