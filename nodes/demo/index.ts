export { talker } from './talker.js';
export { listener } from './listener.js';
