import { type PutFunction } from 'shardline';
import { produce } from '../../../templates/init/src/producer';

describe("the scaffold's dev producer (templates/init/src/producer.ts)", () => {
  it('puts flights keyed by destination until the signal aborts', async () => {
    const abort = new AbortController();
    const puts: Array<[unknown, string | undefined]> = [];
    const put: PutFunction = (data, partitionKey) => {
      puts.push([data, partitionKey]);
      if (puts.length === 3) abort.abort();
      return Promise.resolve({ shardId: 'shardId-000000000000', sequenceNumber: String(puts.length) });
    };
    await produce(put, abort.signal);
    expect(puts).toEqual([
      [{ dest: 'LAX', carrier: 'AA' }, 'LAX'],
      [{ dest: 'SFO', carrier: 'UA' }, 'SFO'],
      [{ dest: 'ORD', carrier: 'DL' }, 'ORD'],
    ]);
  });
});
