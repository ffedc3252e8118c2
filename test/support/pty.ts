/** Shared test helper: a real socat pty pair (see sim/fc/pty.ts). */
export { startPtyPair, type PtyPair, type PtyPairOptions } from '../../sim/fc/pty.js';
