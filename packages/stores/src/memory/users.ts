import { EmailTakenError, type User, type UserStore } from '../types.js';

// Copies in and out so no caller can change stored state by mutating an object it holds.
const copy = (user: User): User => ({ ...user, roles: [...user.roles] });

/** In-process {@link UserStore}. Each method runs synchronously, so it cannot interleave with another. */
export function createMemoryUserStore(): UserStore {
  const byId = new Map<string, User>();
  const idByEmail = new Map<string, string>();

  return {
    async create(user) {
      if (idByEmail.has(user.email)) throw new EmailTakenError();
      if (byId.has(user.id)) throw new Error('a user with this id already exists');
      byId.set(user.id, copy(user));
      idByEmail.set(user.email, user.id);
    },

    async findById(id) {
      const user = byId.get(id);
      return user ? copy(user) : null;
    },

    async findByEmail(email) {
      const id = idByEmail.get(email);
      const user = id === undefined ? undefined : byId.get(id);
      return user ? copy(user) : null;
    },

    async updatePassword(id, { from, to }, now) {
      const user = byId.get(id);
      if (!user || user.passwordHash !== from) return false;
      user.passwordHash = to;
      user.updatedAt = now;
      return true;
    },
  };
}
