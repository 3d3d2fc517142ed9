"""The captcha question: small arithmetic written in words and symbols."""

import random

NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def math_challenge():
    """Return ("five × 1 =", "5"): django-simple-captcha's CAPTCHA_CHALLENGE_FUNCT contract."""
    left, right = random.randint(1, 9), random.randint(1, 9)
    operator = random.choice(["+", "×"])
    answer = left + right if operator == "+" else left * right
    return f"{NUMBER_WORDS[left]} {operator} {right} =", str(answer)
