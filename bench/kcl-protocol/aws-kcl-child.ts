// The aws-kcl (2.3.2) equivalent of the shardline demo consumer: logs the batch size to stderr and checkpoints the
// last record of every batch. Like the demo's handler, it never reads a record's data.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- aws-kcl has no type declarations
const kcl = require('aws-kcl') as (processor: object) => { run(): void };

type Done = () => void;
interface Checkpointer {
  checkpoint(sequenceNumberOrCallback: string | ((error?: string) => void), callback?: (error?: string) => void): void;
}

kcl({
  initialize(input: { shardId: string }, done: Done): void {
    process.stderr.write(`Hello ${input.shardId}\n`);
    done();
  },
  processRecords(input: { records: Array<{ sequenceNumber: string }>; checkpointer: Checkpointer }, done: Done): void {
    const records = input.records;
    process.stderr.write(`Received ${records.length} records from Kinesis\n`);
    const last = records[records.length - 1];
    if (last === undefined) return done();
    input.checkpointer.checkpoint(last.sequenceNumber, () => done());
  },
  leaseLost(_input: object, done: Done): void {
    done();
  },
  shardEnded(input: { checkpointer: Checkpointer }, done: Done): void {
    input.checkpointer.checkpoint(() => done());
  },
  shutdownRequested(input: { checkpointer: Checkpointer }, done: Done): void {
    input.checkpointer.checkpoint(() => done());
  },
}).run();
