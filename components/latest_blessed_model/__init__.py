"""The latest blessed model as a task's answer, for orchestrators without Resolvers."""
