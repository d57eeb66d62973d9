/** The tool version, written into bundles and compared on import. Kept in step with package.json by a test. */
export const VERSION = '0.1.0'
