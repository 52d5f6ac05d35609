// Keeps what the user is reading still while a window patches the page around it.
//
// Chromium's own scroll anchoring already compensates for rows added or removed above the view, and it does so in
// the layout that the first geometry read after a patch forces (so within the same task, before anything is
// painted). What it cannot do is scroll past the end of the page: scrolled to the bottom, when a list between the
// element at the top of the view and the end of the page gets shorter (fewer preemption pairs this window), the
// page shrinks from under the view, the browser clamps the scroll position, and everything on screen slides down
// by the lost height. So a patch runs inside hold(): it notes where the elements at the top of the view are, lets
// the patch and the browser's anchoring happen, and if what the user read still moved, it scrolls it back, first
// lengthening an empty tail at the end of the page when that is what stops the scroll. The tail gives the space
// back as soon as it is not needed to keep the view where it is (the user scrolls up, or the page grows again).
//
// What is "what the user read": the innermost element at the top of the view (a card, an episode, a detail line),
// which rows added or removed above it do not change. Except in a list re-sorted every window (the table, the
// preemption pairs, marked data-hold="list"): there the reader follows the places, not one process, as in top, so
// the list itself is held and its rows change under the view.

export interface ScrollHold {
  /** Runs a DOM patch so that the element at the top of the view stays at the same place on screen. */
  hold(patch: () => void): void;
  /** Drops the tail (a reset of the page: there is nothing left to hold). */
  clear(): void;
}

interface Mark {
  el: Element;
  top: number;
}

/** A list whose rows are re-sorted every window: it is held as a whole. */
export const SORTED = '[data-hold="list"]';

export function scrollHold(content: HTMLElement): ScrollHold {
  const tail = document.createElement('div');
  tail.className = 'scroll-tail';
  tail.setAttribute('aria-hidden', 'true');
  content.after(tail);
  let tailHeight = 0;
  const scroller = document.scrollingElement ?? document.documentElement;

  const setTail = (px: number) => {
    const h = Math.max(0, Math.ceil(px));
    if (h === tailHeight) return;
    tailHeight = h;
    tail.style.height = `${h}px`;
  };

  /** Shrinks the tail to what keeps the current scroll position reachable (never grows it). */
  const trim = () => {
    if (tailHeight === 0) return;
    const withoutTail = scroller.scrollHeight - tailHeight;
    const needed = scroller.scrollTop + scroller.clientHeight - withoutTail;
    if (needed < tailHeight) setTail(needed);
  };
  window.addEventListener('scroll', trim, { passive: true });
  window.addEventListener('resize', trim);

  /** The elements under a point just inside the top of the view, innermost first (if the innermost is removed or
   *  hidden by the patch, its container stands in), leaving out the rows of a re-sorted list. */
  const marks = (): Mark[] => {
    const box = content.getBoundingClientRect();
    const x = Math.min(Math.max(box.left + 16, 0), window.innerWidth - 1);
    return document
      .elementsFromPoint(x, 2)
      .filter((el) => el !== content && content.contains(el) && !el.parentElement?.closest(SORTED))
      .map((el) => ({ el, top: el.getBoundingClientRect().top }));
  };

  return {
    hold(patch) {
      // At the very top the user watches the page's head: new processes may push the rest down, as in a list.
      if (scroller.scrollTop <= 0) {
        patch();
        trim();
        return;
      }
      const before = marks();
      patch();
      // Still in the page and still laid out (an 'empty' note the patch hid has no place to hold).
      const mark = before.find((m) => m.el.isConnected && m.el.getClientRects().length > 0);
      if (mark) {
        // Reading the geometry runs the layout, and with it the browser's scroll anchoring: what is left is ours.
        const moved = mark.el.getBoundingClientRect().top - mark.top;
        if (Math.abs(moved) >= 0.5) {
          const room = scroller.scrollHeight - scroller.clientHeight - scroller.scrollTop;
          if (moved > room) setTail(tailHeight + moved - room);
          scroller.scrollTop += moved;
        }
      }
      trim();
    },
    clear() {
      setTail(0);
    },
  };
}
