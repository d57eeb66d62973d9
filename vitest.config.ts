import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    pool: 'forks',
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/real-comfyui/**', '**/node_modules/**'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          pool: 'forks',
        },
      },
      {
        // a real ComfyUI per frontend, one at a time: see test/real-comfyui/README.md
        test: {
          name: 'real-comfyui',
          include: ['test/real-comfyui/**/*.test.ts'],
          globalSetup: ['test/real-comfyui/support/prepare.ts'],
          testTimeout: 120_000,
          hookTimeout: 900_000,
          pool: 'forks',
          fileParallelism: false,
        },
      },
    ],
  },
})
