import { byId } from './dom.js';

/** What a confirmation asks. */
export interface Question {
  title: string;
  body: string;
  /** The confirming button's text: the action itself ("Sign out everywhere"), never "OK". */
  confirm: string;
}

/**
 * Asks before something that signs someone out, in the page's modal `<dialog>`: focus goes to
 * Cancel (the safe choice), Escape cancels, and focus returns to the button that asked.
 * Resolves true only for the confirming button.
 */
export function confirmAction(question: Question): Promise<boolean> {
  const dialog = byId('confirm', HTMLDialogElement);
  const ok = byId('confirm-ok', HTMLButtonElement);
  const cancel = byId('confirm-cancel', HTMLButtonElement);
  byId('confirm-title').textContent = question.title;
  byId('confirm-body').textContent = question.body;
  ok.textContent = question.confirm;
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  return new Promise((resolve) => {
    const finish = (answer: boolean) => {
      ok.removeEventListener('click', yes);
      cancel.removeEventListener('click', no);
      dialog.removeEventListener('close', closed);
      if (dialog.open) dialog.close();
      if (opener?.isConnected) opener.focus();
      resolve(answer);
    };
    const yes = () => finish(true);
    const no = () => finish(false);
    // Escape closes a modal dialog by itself: that is a "no".
    const closed = () => finish(false);
    ok.addEventListener('click', yes);
    cancel.addEventListener('click', no);
    dialog.addEventListener('close', closed);
    dialog.showModal();
    cancel.focus();
  });
}
