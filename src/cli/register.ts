import 'reflect-metadata';
import { registerTypeScriptLoader } from './typescript-loader';

/* `node -r shardline/dist/cli/register.js app.ts`: lets Node require TypeScript files with decorator metadata. */
// Scripts run this way are CLIs too: the AWS SDK's multi-line Node-version notice would bury their output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
registerTypeScriptLoader();
