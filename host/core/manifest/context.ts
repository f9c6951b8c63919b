/** Where a manifest came from: only used to resolve relative paths and to name the file in errors. */
export interface ManifestContext {
  /** Absolute path of the manifest file, or null when the JSON did not come from a file. */
  readonly manifestPath: string | null;
  /** Folder that relative paths in the manifest are resolved against (should be absolute). */
  readonly baseDir: string;
}
