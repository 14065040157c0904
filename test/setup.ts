import 'reflect-metadata';

// The AWS SDK's multi-line "Node 22 from 2027" notice would repeat in every test file's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
