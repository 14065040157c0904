import type { PutFunction } from 'shardline';
import type { Flight } from './flight-counter';

const DESTINATIONS = ['LAX', 'SFO', 'ORD', 'ATL', 'BOS'];
const CARRIERS = ['AA', 'UA', 'DL'];

/** `npm run dev` runs this next to the consumer: a flight every 200 ms until Ctrl-C. */
export async function produce(put: PutFunction, signal: AbortSignal): Promise<void> {
  for (let i = 0; !signal.aborted; i++) {
    const flight: Flight = { dest: DESTINATIONS[i % DESTINATIONS.length]!, carrier: CARRIERS[i % CARRIERS.length]! };
    await put(flight, flight.dest);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
