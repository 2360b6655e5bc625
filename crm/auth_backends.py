"""Password login whose later requests load the user with its role and scope in one query."""

from django.contrib.auth.backends import ModelBackend

from crm.selectors.scope import user_with_scope


class ScopedUserBackend(ModelBackend):
    """Django's ModelBackend, except that the user a session names comes with what
    crm.selectors.scope.viewer_of needs: every request then runs one query fewer."""

    def get_user(self, user_id):
        user = user_with_scope(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
