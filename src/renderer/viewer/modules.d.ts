// The Cornerstone 2.x family ships no TypeScript types; the renderer uses them through the
// narrow wrappers in ./cornerstone.ts.
declare module 'cornerstone-core';
declare module 'cornerstone-tools';
declare module 'cornerstone-math';
declare module 'cornerstone-wado-image-loader';
declare module 'cornerstone-wado-image-loader/dist/dynamic-import/cornerstoneWADOImageLoader.min.js';
declare module 'dicom-parser';
declare module 'hammerjs';
