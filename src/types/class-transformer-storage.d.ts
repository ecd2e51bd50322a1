// class-transformer ships its metadata storage without a declaration at this path; the JSON
// Schema generator needs it to follow @Type() to nested schemas.
declare module 'class-transformer/cjs/storage.js' {
  import type { MetadataStorage } from 'class-transformer/types/MetadataStorage.js';
  export const defaultMetadataStorage: MetadataStorage;
}
