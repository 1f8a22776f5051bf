/**
 * Time, in the two kinds the bot needs. Every wait, retry, rate and pace uses the monotonic clock, which never
 * steps: an NTP correction or an operator setting the date back an hour must not make the bot refuse a trusted
 * peer, stall its room replies or forget to retry. Wall time is only for what is shown to people and stored.
 */
export interface Clock {
  /** Monotonic milliseconds (arbitrary origin): for every duration and deadline. */
  now(): number;
  /** Milliseconds since the epoch: for timestamps shown or stored. */
  wall(): number;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  wall: () => Date.now(),
};

/** Monotonic milliseconds: the default `now` of rate limiters and pacers. */
export const monotonicNow = (): number => performance.now();

const wallAtStart = Date.now();
const monotonicAtStart = performance.now();

/**
 * Wall time that never steps: the wall clock as it read when the process started, advanced by the monotonic clock.
 * For deadlines that must be stored as wall times to survive a restart (mutes, snoozes, reminders): compared with
 * this, a clock set back an hour neither stretches a mute nor holds a reminder, and one set forward ends nothing early.
 */
export const steadyWallNow = (): number => wallAtStart + (performance.now() - monotonicAtStart);
