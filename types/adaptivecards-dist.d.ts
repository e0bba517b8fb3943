// The package's `main` (lib/) is ES modules without file extensions, which Node cannot load; its UMD bundle
// works, but its bundled declaration file declares path-style modules instead of describing the bundle itself.
declare module 'adaptivecards/dist/adaptivecards.js' {
  export * from 'adaptivecards';
}
