import { parseEnv } from '@/config/env';

describe('parseEnv', () => {
  it('defaults the API base URL', () => {
    expect(parseEnv({}).VITE_API_BASE_URL).toBe('http://127.0.0.1:8000');
  });
  it('drops a trailing slash', () => {
    expect(parseEnv({ VITE_API_BASE_URL: 'https://api.example.com/' }).VITE_API_BASE_URL).toBe('https://api.example.com');
  });
  it('rejects what is not an http(s) URL', () => {
    expect(() => parseEnv({ VITE_API_BASE_URL: 'not a url' })).toThrow(/Invalid environment/);
  });
});
