// Keyboard use of the dashboard: items marked data-nav="<group>" are a roving list; Up/Down (and Home/End) move
// between the items of the same group, Enter or Space activates the focused one.

export function keyboardNavigation(root: HTMLElement, opts: { activate(item: HTMLElement): void }): void {
  root.addEventListener('keydown', (ev) => {
    const item = (ev.target as HTMLElement).closest<HTMLElement>('[data-nav]');
    if (!item || item !== ev.target) return; // keys inside a button belong to the button
    const group = [...root.querySelectorAll<HTMLElement>(`[data-nav="${item.dataset.nav}"]`)].filter(
      (e) => !e.closest('[hidden]'),
    );
    const i = group.indexOf(item);
    let to: HTMLElement | undefined;
    if (ev.key === 'ArrowDown') to = group[i + 1];
    else if (ev.key === 'ArrowUp') to = group[i - 1];
    else if (ev.key === 'Home') to = group[0];
    else if (ev.key === 'End') to = group[group.length - 1];
    else if (ev.key === 'Enter' || ev.key === ' ') {
      ev.preventDefault();
      opts.activate(item);
      return;
    } else return;
    ev.preventDefault();
    to?.focus();
    to?.scrollIntoView({ block: 'nearest' });
  });
}
