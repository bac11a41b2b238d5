// The first screen's data goes first. Until the screen the person opened has shown its data (or
// FIRST_SCREEN_WAIT_MS at most), the shell holds back what can come a moment later: the people's
// names, GET /me when the sign-in already said who this is, the live poll. On the local stack every
// request shares one Python process, so asking for them at once slows the first screen's own.
export const FIRST_SCREEN_WAIT_MS = 1500;

let markShown: () => void = () => undefined;
const shown = new Promise<void>((resolve) => {
  markShown = resolve;
});

/** Called by a screen once its first data is on screen (or has failed): the rest may come now. */
export function firstScreenShown(): void {
  markShown();
}

/** Resolves once the first screen has shown its data, or after FIRST_SCREEN_WAIT_MS. */
export function afterFirstScreen(): Promise<void> {
  return Promise.race([shown, new Promise<void>((resolve) => setTimeout(resolve, FIRST_SCREEN_WAIT_MS))]);
}
