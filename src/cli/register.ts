import 'reflect-metadata';
import { registerTypeScriptLoader } from './typescript-loader';

/* `node -r shardline/dist/cli/register.js app.ts`: lets Node require TypeScript files with decorator metadata. */
registerTypeScriptLoader();
