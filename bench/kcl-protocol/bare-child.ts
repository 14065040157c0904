// The floor: the least a KCL child can do. readline + JSON.parse of every line, base64 decode of every record's data,
// a checkpoint of the last record of each batch and the status replies. No framework, no logging, no error handling.
import { createInterface } from 'node:readline';

interface Message {
  action: string;
  records?: Array<{ data: string; sequenceNumber: string; subSequenceNumber: number }>;
}

let pending: string | undefined; // the status to send once the checkpoint reply arrives
const out = (o: object): boolean => process.stdout.write(`${JSON.stringify(o)}\n`);
const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on('line', (line) => {
  if (line === '') return;
  const m = JSON.parse(line) as Message;
  switch (m.action) {
    case 'processRecords': {
      const records = m.records ?? [];
      let bytes = 0;
      for (const r of records) bytes += Buffer.from(r.data, 'base64').length;
      const last = records[records.length - 1];
      if (last === undefined || bytes < 0) {
        out({ action: 'status', responseFor: 'processRecords' });
        return;
      }
      pending = 'processRecords';
      out({ action: 'checkpoint', sequenceNumber: last.sequenceNumber, subSequenceNumber: last.subSequenceNumber });
      return;
    }
    case 'checkpoint':
      out({ action: 'status', responseFor: pending });
      pending = undefined;
      return;
    case 'shardEnded':
    case 'shutdownRequested':
      pending = m.action;
      out({ action: 'checkpoint', sequenceNumber: null, subSequenceNumber: null });
      return;
    default:
      out({ action: 'status', responseFor: m.action });
  }
});
