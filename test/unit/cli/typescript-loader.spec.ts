describe('the TypeScript loader of shardline run / dev / kcl', () => {
  it('says what to install when @swc/core cannot be loaded, instead of a require stack', () => {
    jest.isolateModules(() => {
      jest.doMock('@swc/core', () => {
        throw new Error("Cannot find module '@swc/core'\nRequire stack:\n- /somewhere");
      });
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { registerTypeScriptLoader } = require('../../../src/cli/typescript-loader') as typeof import('../../../src/cli/typescript-loader');
      expect(() => registerTypeScriptLoader()).toThrow(
        "cannot load @swc/core, which compiles TypeScript modules (Cannot find module '@swc/core'): run `npm install @swc/core` in your project, or compile to JavaScript and run the .js file",
      );
    });
  });
});
