import { type CliAdapter } from '../cli-adapter';
import { pendingAdapter } from '../pending';

/** `--adapter kcl`: this process is a child of the KCL MultiLangDaemon. */
export const kclCliAdapter: CliAdapter = pendingAdapter('kcl', 'child of the KCL MultiLangDaemon (JSON lines on stdin/stdout)');
