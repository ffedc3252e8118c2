/** Bag player and recorder nodes (execs `player` and `recorder`). */
export { playerNode, parseRemaps, playbackFinished, type PlayerInstance } from './player.js';
export { recorderNode, defaultBagName, type RecorderInstance } from './recorder.js';
