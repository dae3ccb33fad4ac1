import type { CircuitState, PoolEventMap } from '../pool/events.js';

/** Where health and metrics read the circuit breaker's state from. */
export interface CircuitStateSource {
  state(): CircuitState;
}

/**
 * Follows the breaker through the pool's `circuit` events ({ from, to }), so observability needs no
 * reference to the breaker itself: without a breaker (or before its first change) the state is 'closed'.
 */
export class CircuitTracker implements CircuitStateSource {
  #state: CircuitState = 'closed';
  #changedAt: number | undefined = undefined;

  readonly listener = (event: PoolEventMap['circuit'][0]): void => {
    this.#state = event.to;
    this.#changedAt = Date.now();
  };

  state(): CircuitState {
    return this.#state;
  }

  /** Epoch ms of the last change, if any. */
  get changedAt(): number | undefined {
    return this.#changedAt;
  }
}
