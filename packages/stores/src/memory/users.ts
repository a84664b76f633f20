import { assertPageLimit } from '../lib/cursor.js';
import { applyRoleChange, compareCodePoints } from '../lib/users.js';
import { EmailTakenError, type User, type UserStore } from '../types.js';

// Copies in and out so no caller can change stored state by mutating an object it holds.
const copy = (user: User): User => ({ ...user, roles: [...user.roles] });

/**
 * In-process {@link UserStore}. Each method runs synchronously, so it cannot interleave with another.
 * `onDelete` runs in the same synchronous step as a deletion: the other memory stores drop the
 * user's sessions and refresh tokens there, as the SQL backends do in the deleting transaction.
 */
export function createMemoryUserStore(onDelete: (userId: string) => void = () => {}): UserStore {
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

    async list({ limit, after }) {
      assertPageLimit(limit);
      // A sort per page is fine for the sizes this store holds (tests, demos, one throwaway node).
      const emails = [...idByEmail.keys()].filter((email) => after === undefined || compareCodePoints(email, after) > 0);
      return emails
        .sort(compareCodePoints)
        .slice(0, limit)
        .map((email) => copy(byId.get(idByEmail.get(email)!)!));
    },

    async changeRoles(id, change, now) {
      const user = byId.get(id);
      if (!user) return null;
      user.roles = applyRoleChange(user.roles, change);
      user.updatedAt = now;
      return [...user.roles];
    },

    async setDisabled(id, disabledAt, now) {
      const user = byId.get(id);
      if (!user) return false;
      user.disabledAt = disabledAt;
      user.updatedAt = now;
      return true;
    },

    async delete(id) {
      const user = byId.get(id);
      if (!user) return false;
      byId.delete(id);
      idByEmail.delete(user.email);
      onDelete(id);
      return true;
    },
  };
}
