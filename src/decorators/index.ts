export { Consumer } from './consumer.decorator';
export { OnRecords, type OnRecordsOptions } from './on-records.decorator';
export { Every } from './every.decorator';
export { Secret, SECRET_SCHEMES, type SecretOptions } from './secret.decorator';
export { OnInit } from './on-init.decorator';
export { OnShutdown } from './on-shutdown.decorator';
export { OnLeaseLost } from './on-lease-lost.decorator';
export { OnShardEnded } from './on-shard-ended.decorator';
export { OnDeadLetter } from './on-dead-letter.decorator';
