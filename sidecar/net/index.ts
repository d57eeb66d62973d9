export * from './content-hash'
